from insiders.report import main

main()
